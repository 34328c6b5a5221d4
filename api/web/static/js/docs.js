// Starts the vendored Swagger UI on /docs (a file, not an inline script: the CSP forbids those).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    oauth2RedirectUrl: window.location.origin + "/static/vendor/swagger-ui/oauth2-redirect.html",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
