// Starts the vendored Swagger UI on the registry's OpenAPI document. Kept out of the HTML
// page so the page's Content-Security-Policy can forbid inline scripts.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: document.body.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
  });
});
