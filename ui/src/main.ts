import "./locale-shim";
import { mount } from "svelte";
import App from "./App.svelte";
import { applyTheme, initialTheme } from "./lib/store.svelte";
import "./app.css";

applyTheme(initialTheme());

const target = document.getElementById("app");
if (!target) throw new Error("missing #app");

export default mount(App, { target });
