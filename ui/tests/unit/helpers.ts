export { installFake } from "../fake/install";
export { XSS_TEXT as XSS } from "../fake/backend";
