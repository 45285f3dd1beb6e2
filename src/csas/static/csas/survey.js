/* Progressive enhancement for survey pages; every page works without it.
   - conditional questions on the same page show only when they apply;
   - an "exclusive" answer (e.g. "Prefer not to say") clears the others and vice versa;
   - a map-pin question gets a map: tapping it writes "longitude,latitude" into the field. */
(function () {
  "use strict";
  var form = document.querySelector(".survey-form");
  if (!form) { return; }

  function chosen(name) {
    var values = [];
    form.querySelectorAll('input[name="' + name + '"]:checked').forEach(function (input) {
      values.push(input.value);
    });
    return values;
  }

  function updateConditions() {
    form.querySelectorAll("[data-show-if-question]").forEach(function (block) {
      var wanted = block.getAttribute("data-show-if-values").split(" ");
      var have = chosen(block.getAttribute("data-show-if-question"));
      var show = have.some(function (value) { return wanted.indexOf(value) !== -1; });
      block.classList.toggle("is-hidden", !show);
      block.querySelectorAll(".hint").forEach(function (hint, index) {
        if (index === 0) { hint.classList.add("is-hidden"); }
      });
    });
  }

  form.addEventListener("change", function (event) {
    var input = event.target;
    if (input.type === "checkbox" && input.checked) {
      var group = form.querySelectorAll('input[type=checkbox][name="' + input.name + '"]');
      group.forEach(function (other) {
        if (other === input) { return; }
        if (input.dataset.exclusive === "true" || other.dataset.exclusive === "true") {
          other.checked = false;
        }
      });
    }
    updateConditions();
  });
  updateConditions();

  if (typeof L === "undefined") { return; }

  /* Neighbourhood picker: tapping a district on the map ticks its answer in the list (the
     list stays the accessible way to answer; the map is hidden from assistive technology). */
  function optionValue(name) {
    return name.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  }
  form.querySelectorAll(".pick-map").forEach(function (element) {
    element.hidden = false;
    var key = element.getAttribute("data-question");
    var map = L.map(element, { zoomControl: false, keyboard: false, attributionControl: false,
      scrollWheelZoom: false });
    fetch(element.getAttribute("data-geojson"))
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var layer = L.geoJSON(data, {
          style: { color: "#1d4f91", weight: 1, fillOpacity: 0.1 },
          onEachFeature: function (feature, shape) {
            shape.bindTooltip(feature.properties.name, { sticky: true });
            shape.on("click", function () {
              var input = form.querySelector('input[name="' + key + '"][value="' +
                optionValue(feature.properties.code) + '"]');
              if (input) {
                input.checked = true;
                input.dispatchEvent(new Event("change", { bubbles: true }));
              }
              layer.setStyle({ fillOpacity: 0.1 });
              shape.setStyle({ fillOpacity: 0.45 });
            });
          }
        }).addTo(map);
        map.fitBounds(layer.getBounds());
      })
      .catch(function () { element.hidden = true; });
  });

  form.querySelectorAll(".pin-map").forEach(function (element) {
    var input = document.getElementById(element.getAttribute("data-input"));
    element.hidden = false;
    var map = L.map(element).setView([47.245, -122.46], 12);
    var marker = null;
    fetch(element.getAttribute("data-geojson"))
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var layer = L.geoJSON(data, { style: { color: "#1d4f91", weight: 1, fillOpacity: 0.05 } });
        layer.addTo(map);
        map.fitBounds(layer.getBounds());
      })
      .catch(function () {});
    map.on("click", function (event) {
      var lon = event.latlng.lng.toFixed(6), lat = event.latlng.lat.toFixed(6);
      if (marker) { marker.setLatLng(event.latlng); } else { marker = L.marker(event.latlng).addTo(map); }
      input.value = lon + "," + lat;
    });
  });
})();
