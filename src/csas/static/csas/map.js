/* District map: Leaflet over GeoJSON served by the site. Works with no tile server at all
   (polygons are drawn as SVG); tiles are added only when CSAS_MAP_TILE_URL is configured. */
(function () {
  "use strict";
  var element = document.getElementById("district-map");
  if (!element || typeof L === "undefined") { return; }
  var layers = JSON.parse(element.getAttribute("data-layers") || "[]");
  var tiles = element.getAttribute("data-tiles");
  var map = L.map(element, { scrollWheelZoom: false });
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 18, attribution: "Map tiles" }).addTo(map);
  } else {
    element.classList.add("no-tiles");
  }
  var palette = ["#1d4f91", "#a4343a", "#2e7d32", "#6a1b9a"];
  var overlays = {};
  var bounds = null;
  var pending = layers.length;
  layers.forEach(function (layer, index) {
    fetch(layer.url, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var geo = L.geoJSON(data, {
          style: { color: palette[index % palette.length], weight: 2, fillOpacity: 0.08 },
          onEachFeature: function (feature, shape) {
            shape.bindTooltip(feature.properties.name, { sticky: true });
          }
        });
        overlays[layer.label] = geo;
        if (index === 0) { geo.addTo(map); }
        var b = geo.getBounds();
        if (b.isValid()) { bounds = bounds ? bounds.extend(b) : b; }
      })
      .catch(function () { element.classList.add("map-error"); })
      .finally(function () {
        pending -= 1;
        if (pending === 0) {
          if (bounds) { map.fitBounds(bounds); } else { map.setView([47.25, -122.45], 11); }
          L.control.layers(null, overlays, { collapsed: false }).addTo(map);
        }
      });
  });
})();
