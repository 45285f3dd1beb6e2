/* Map comments: published comments clustered on the map; tapping the map places the
   new comment's pin. The form and the list below the map work without any of this. */
(function () {
  "use strict";
  var element = document.getElementById("comment-map");
  if (!element || typeof L === "undefined") { return; }
  // maxZoom is needed by the marker clusters even when no tile layer sets one.
  var map = L.map(element, { scrollWheelZoom: false, maxZoom: 18 }).setView([47.245, -122.46], 12);
  var tiles = element.getAttribute("data-tiles");
  if (tiles) { L.tileLayer(tiles, { maxZoom: 18 }).addTo(map); }
  fetch(element.getAttribute("data-districts"))
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var outline = L.geoJSON(data, { style: { color: "#1d4f91", weight: 1, fillOpacity: 0.04 },
        interactive: false }).addTo(map);
      map.fitBounds(outline.getBounds());
    }).catch(function () {});
  var cluster = typeof L.markerClusterGroup === "function" ? L.markerClusterGroup() : L.layerGroup();
  cluster.addTo(map);
  fetch(element.getAttribute("data-comments"))
    .then(function (r) { return r.json(); })
    .then(function (data) {
      L.geoJSON(data, {
        onEachFeature: function (feature, layer) {
          var box = document.createElement("div");
          var title = document.createElement("strong");
          title.textContent = feature.properties.category;
          var text = document.createElement("p");
          text.textContent = feature.properties.text;
          box.appendChild(title);
          box.appendChild(text);
          layer.bindPopup(box);
        }
      }).eachLayer(function (layer) { cluster.addLayer(layer); });
    }).catch(function () {});
  var input = document.getElementById(element.getAttribute("data-input"));
  var status = document.getElementById("pin-status");
  var pin = null;
  map.on("click", function (event) {
    if (!input) { return; }
    if (pin) { pin.setLatLng(event.latlng); } else { pin = L.marker(event.latlng).addTo(map); }
    input.value = event.latlng.lng.toFixed(6) + "," + event.latlng.lat.toFixed(6);
    if (status) { status.textContent = status.getAttribute("data-placed") || "\u2713"; }
  });
})();
