// α-CL Lab service worker: makes the app work offline after the first visit.
//
// On install it stores the app shell (page, JS glue, wasm, manifest, icon) and the prepared
// CIFAR-10 files that exist on the server. Requests are answered network-first (so a new build
// is picked up as soon as the server is reachable) and fall back to the stored copy when the
// network fails. Every successful same-origin GET refreshes the stored copy.
const CACHE = 'alphacl-v3';
const SHELL = ['./', 'index.html', 'alphacl-web.js', 'alphacl-web_bg.wasm',
  'alphacl-worker_loader.js', 'alphacl-worker.js', 'alphacl-worker_bg.wasm', 'manifest.json', 'icon.svg'];
const DATA = ['data/cifar10-16.bin', 'data/cifar10-32.bin', 'data/cifar10-8.bin'];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL);
    // Data files are optional (a checkout without prepared data still works on toy data).
    await Promise.all(DATA.map((url) => cache.add(url).catch(() => undefined)));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const resp = await fetch(req);
      if (resp.ok && resp.status === 200) await cache.put(req, resp.clone());
      return resp;
    } catch (err) {
      const hit = await cache.match(req, { ignoreSearch: true });
      if (hit) return hit;
      if (req.mode === 'navigate') {
        const page = await cache.match('index.html');
        if (page) return page;
      }
      throw err;
    }
  })());
});
