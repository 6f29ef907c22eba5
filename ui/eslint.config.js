import js from "@eslint/js";
import svelte from "eslint-plugin-svelte";
import globals from "globals";
import ts from "typescript-eslint";
import svelteConfig from "./svelte.config.js";

export default ts.config(
  { ignores: ["dist/", "dist-console/", "node_modules/", "src/bindings/", "test-results/", "coverage/"] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.browser, ...globals.node },
    },
  },
  {
    files: ["**/*.svelte", "**/*.svelte.ts", "**/*.svelte.js"],
    languageOptions: {
      parserOptions: {
        projectService: true,
        extraFileExtensions: [".svelte"],
        parser: ts.parser,
        svelteConfig,
      },
    },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": ["error", { allow: ["warn", "error"] }],
      // Text from other people must never become markup.
      "svelte/no-at-html-tags": "error",
      "svelte/require-each-key": "error",
      "svelte/no-navigation-without-resolve": "off",
    },
  },
  {
    files: ["tests/**/*.mjs", "tests/**/*.ts", "scripts/**/*.mjs", "src/**/*.test.ts"],
    rules: { "no-console": "off" },
  },
);
