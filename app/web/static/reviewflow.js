// Starts GOV.UK Frontend's components (error summary focus, service navigation on small
// screens). A module of its own: the pages allow no inline script. Conditional questions are
// revealed by CSS alone (app/web/assets/_forms.scss).
import { initAll } from "/ui/static/govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
