/* Coproduce service worker: precaches hashed static files and the offline page,
   keeps public pages for offline reading, and never keeps signed-in pages. */
const VERSION = "{{ version }}";
const STATIC_CACHE = "static-" + VERSION;
const PAGE_CACHE = "pages-v1";
const PRECACHE = {{ precache|safe }};
const OFFLINE_URL = {{ offline_url|safe }};

self.addEventListener("install", (event) => {
  // Fetched without cookies: the offline page must not touch the person's session (a
  // response racing a sign-in could otherwise replace the session's CSRF token).
  const requests = PRECACHE.map((url) => new Request(url, {credentials: "omit"}));
  event.waitUntil(caches.open(STATIC_CACHE).then((cache) => cache.addAll(requests)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(
      keys.filter((key) => key.startsWith("static-") && key !== STATIC_CACHE)
        .map((key) => caches.delete(key))
    )).then(() => self.clients.claim())
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
  if (event.data === "forget-pages") event.waitUntil(caches.delete(PAGE_CACHE));
});

function storable(response) {
  const control = response.headers.get("Cache-Control") || "";
  return response.ok && response.type === "basic" && !/no-store|private/.test(control);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).then((response) => {
        if (storable(response)) {
          const copy = response.clone();
          caches.open(PAGE_CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      }).catch(() => caches.match(request, {cacheName: PAGE_CACHE})
        .then((hit) => hit || caches.match(OFFLINE_URL)))
    );
  }
});
