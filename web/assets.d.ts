// Module declarations for what is not TypeScript: the console's CSS (bundled by Bun) and the built
// bundle in web/dist, which src/http/console/static.ts imports as embedded files (a path string).
declare module '*/styles.css' {}
declare module 'uplot/dist/uPlot.min.css' {}

declare module '*/web/dist/app.js' {
  const path: string
  export default path
}
declare module '*/web/dist/app.css' {
  const path: string
  export default path
}
declare module '*/web/dist/mqtt.js' {
  const path: string
  export default path
}
