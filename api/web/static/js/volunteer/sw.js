// The volunteer app's service worker (served as /volunteer/sw.js, scope /volunteer/).
// It keeps the shell (pages, styles, scripts, icons) so the app opens on a weak village signal.
// API answers are never stored: they carry residents' names, phones and addresses, and a
// shared or lost phone must not hold them.
"use strict";
const SHELL = "volunteer-shell-v1";
const SHELL_FILES = [
  "/volunteer/",
  "/volunteer/record",
  "/volunteer/manifest.webmanifest",
  "/static/css/app.css",
  "/static/css/volunteer.css",
  "/static/js/common.js",
  "/static/js/volunteer.js",
  "/static/img/volunteer/icon.svg",
  "/static/img/volunteer/icon-192.png",
  "/static/img/volunteer/icon-512.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("volunteer-shell-") && n !== SHELL).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

const isShell = (url) => url.origin === self.location.origin
  && (url.pathname.startsWith("/volunteer/") || url.pathname.startsWith("/static/"))
  && !url.pathname.startsWith("/api/");

// Network first, so a new version shows at once; the stored shell only when offline. An order
// page offline falls back to the inbox shell (the order's data needs the network anyway).
self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || !isShell(url)) return;
  const key = url.origin + url.pathname;  // ?t= link codes and ?lang= never become cache keys
  event.respondWith(
    fetch(request).then((answer) => {
      if (answer.ok && SHELL_FILES.includes(url.pathname)) {
        const copy = answer.clone();
        caches.open(SHELL).then((cache) => cache.put(key, copy));
      }
      return answer;
    }).catch(async () => {
      const kept = await caches.match(key)
        || (request.mode === "navigate" ? await caches.match(self.location.origin + "/volunteer/") : undefined);
      return kept || Response.error();
    }),
  );
});
