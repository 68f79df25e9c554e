// Starts the web app. A file of its own, so the page needs no inline script (CSP).
import init from '/certus_frontend.js';
init('/certus_frontend_bg.wasm');
