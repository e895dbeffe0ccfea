// Starts node-media-server 4.x for the fan-out bench, HTTP/WebSocket-FLV only, on 127.0.0.1.
// Plain CommonJS run by plain node (no tsx), so the comparison server runs as it would in production.
//
// Usage: node bench/lib/nms-server.cjs INSTALL_DIR PORT DATA_DIR [RTMP_PORT]
//   INSTALL_DIR: the --prefix folder node-media-server@4 was installed into
'use strict';
const path = require('node:path');

const [installDir, portArg, dataDir, rtmpArg] = process.argv.slice(2);
const port = Number(portArg);
if (!installDir || !Number.isInteger(port) || port <= 0 || !dataDir) {
  console.error('usage: nms-server.cjs INSTALL_DIR PORT DATA_DIR');
  process.exit(2);
}

const NodeMediaServer = require(path.join(installDir, 'node_modules', 'node-media-server'));

// The 4.x config shape (bin/config.json of the package), reduced to what is measured: RTMP only when a
// port is given, no HTTPS, no web admin, no auth, no recording, no notifications; a private store folder.
const config = {
  bind: '127.0.0.1',
  ...(rtmpArg ? { rtmp: { port: Number(rtmpArg), chunk_size: 60000, gop_cache: true, ping: 30, ping_timeout: 60 } } : {}),
  http: { port },
  webadmin: { enable: false },
  store: { path: path.join(dataDir, 'store') },
  record: { auto: false, path: path.join(dataDir, 'record') },
  notify: { url: '' },
  auth: { play: false, publish: false },
};

const nms = new NodeMediaServer(config, path.join(dataDir, 'config.json'));
nms.run();
process.on('SIGTERM', () => {
  Promise.resolve(nms.stop()).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
