// Starts Swagger UI for /docs; its settings come from data attributes, so no inline script is needed.
window.addEventListener("load", () => {
  const root = document.getElementById("swagger-ui");
  const config = {
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: root.dataset.layout || "BaseLayout",
    oauth2RedirectUrl: new URL(root.dataset.oauth2Redirect, window.location.href).href,
    ...JSON.parse(root.dataset.config || "{}"),
  };
  window.ui = SwaggerUIBundle(config);
});
