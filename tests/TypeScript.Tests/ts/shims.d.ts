// What the tests use of Node.js and of the untyped npm packages, declared here rather than installed as @types packages.
declare module 'autobahn' {
  const autobahn: any
  export default autobahn
}
declare module 'ws' {
  const WebSocket: any
  export default WebSocket
}
declare const process: {
  readonly argv: string[]
  exitCode: number | undefined
  exit (code?: number): never
}
