import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// The inbox. `npm run build` writes client/dist, which the server serves at /; `npm run dev:client`
// serves it with hot reload and forwards /graphql (HTTP and WebSocket) to a server on port 4000.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  // 'hidden': maps for whoever runs the server, without a sourceMappingURL in the bundles; the
  // server never serves them (server/src/http/static-files.ts). `npm run build` then writes the
  // brotli and gzip copies (scripts/compress-client.mjs).
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: 'hidden' },
  server: { proxy: { '/graphql': { target: 'http://localhost:4000', ws: true } } },
})
