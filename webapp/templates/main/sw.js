/* Coproduce service worker: precaches hashed static files and the offline page, and keeps
   public pages for offline reading. Signed-in pages are never kept, except those the server
   marks X-Keep-Offline: personal (the person's home, plan and goals), which go in a personal
   cache that the page script empties at sign-out. */
const VERSION = "{{ version }}";
const STATIC_CACHE = "static-" + VERSION;
const PAGE_CACHE = "pages-v1";
const PERSONAL_CACHE = "personal-v1";
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
  if (event.data === "forget-personal") event.waitUntil(caches.delete(PERSONAL_CACHE));
});

// A page kept for offline reading: the person's own first (their home, not the welcome
// page kept from before they signed in), then any public one.
function kept(url) {
  const key = new Request(url);
  return caches.open(PERSONAL_CACHE)
    .then((cache) => cache.match(key, {ignoreVary: true}))
    .then((hit) => hit || caches.match(key, {ignoreVary: true}));
}

// The offline page, answered for the address the person wanted: a boosted link (htmx) is
// told to show that address, not /offline, so "Try again" loads the page they asked for.
function offlinePage(url, boosted) {
  return caches.match(OFFLINE_URL).then((page) => {
    if (!page || !boosted) return page;
    return page.text().then((body) => new Response(body, {
      status: 200,
      headers: {"Content-Type": "text/html; charset=utf-8", "HX-Push-Url": url},
    }));
  });
}

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
  const boosted = request.headers.get("HX-Boosted") === "true";
  if (request.mode === "navigate" || boosted) {
    event.respondWith(
      fetch(request).then((response) => {
        const copy = response.clone();
        const key = new Request(request.url);
        if (response.ok && response.headers.get("X-Keep-Offline") === "personal") {
          caches.open(PERSONAL_CACHE).then((cache) => cache.put(key, copy));
        } else if (!boosted && storable(response)) {
          caches.open(PAGE_CACHE).then((cache) => cache.put(key, copy));
        }
        return response;
      }).catch(() => kept(request.url).then((hit) => hit || offlinePage(request.url, boosted)))
    );
  }
});

// A notification says only what the server sent (never health details); a tap opens the app.
self.addEventListener("push", (event) => {
  let message = {title: "Coproduce", body: "", url: "/"};
  try { message = Object.assign(message, event.data ? event.data.json() : {}); } catch (e) { /* plain */ }
  event.waitUntil(self.registration.showNotification(message.title, {
    body: message.body,
    icon: PRECACHE.find((url) => url.includes("icon")) || undefined,
    data: {url: message.url},
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil(self.clients.matchAll({type: "window"}).then((windows) => {
    const open = windows.find((client) => client.url.startsWith(self.location.origin));
    if (open) return open.navigate(target.href).then((client) => (client || open).focus());
    return self.clients.openWindow(target.href);
  }));
});
