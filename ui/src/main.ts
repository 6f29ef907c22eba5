import "./locale-shim";
import { applyLanguage } from "./lib/i18n.svelte";
import { mount } from "svelte";
import App from "./App.svelte";
import { applyTheme, initialTheme } from "./lib/store.svelte";
import "./app.css";

applyTheme(initialTheme());
applyLanguage();

const target = document.getElementById("app");
if (!target) throw new Error("missing #app");

export default mount(App, { target });
