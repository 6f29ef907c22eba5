// The operators' console (served by tally-hub at /console/): sign in with password and TOTP, then the
// money desk — withdrawals to decide, deposits to credit, the instructions users read, announcements.
import { mount } from "svelte";
import "../app.css";
import Console from "./Console.svelte";

const target = document.getElementById("console");
if (!target) throw new Error("no #console element");
mount(Console, { target });
