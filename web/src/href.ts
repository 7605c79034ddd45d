/** The hash link of a console section, `href('devices', 'pi-1')` → `#/devices/pi-1`. */
export const href = (name: string, ...params: string[]) =>
  `#/${[name, ...params.map(encodeURIComponent)].filter(Boolean).join('/')}`
