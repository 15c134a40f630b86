// Bundles import `node:http` through this module (esbuild `alias`, infra/bundling.ts). Node's ESM
// facade for `node:http` reads every export, and three of them (the WebSocket classes) load the
// fetch implementation (undici): about 10 ms of every cold start, for a module the functions use
// for little (status texts, the local stand-ins, EC2's metadata service). The built-in module
// itself loads without them (`process.getBuiltinModule`: Node 22.3 and later).
const http = process.getBuiltinModule('node:http');
export default http;
// Every export but WebSocket, CloseEvent and MessageEvent (a missing one fails the build).
export const { METHODS, STATUS_CODES, Agent, ClientRequest, IncomingMessage, OutgoingMessage, Server, ServerResponse, createServer, validateHeaderName, validateHeaderValue, get, request, setMaxIdleHTTPParsers, maxHeaderSize, globalAgent } = http;
