// Evaluated in the service worker: clicks (a synthetic notificationclick) the notification
// whose data.url is the given slot page and resolves to the URL the worker asked to open and how many
// such notifications are left. Opening a window needs a real user's click, so
// clients.openWindow is observed rather than performed.
(async (slotUrl) => {
  const notification = (await self.registration.getNotifications()).find((n) => n.data && n.data.url === slotUrl);
  const url = new Promise((resolve) => {
    self.clients.openWindow = async (u) => {
      resolve(String(u));
      return null;
    };
  });
  self.dispatchEvent(new NotificationEvent('notificationclick', { notification }));
  const left = (await self.registration.getNotifications()).filter((n) => n.data && n.data.url === slotUrl).length;
  return { url: await url, left };
})(SLOT_URL)
