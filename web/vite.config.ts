import { fileURLToPath } from 'node:url';
import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** Where `npm run dev:web` sends API, shell and WebSocket traffic: a running Kai. */
const target = process.env.KAI_URL ?? 'http://127.0.0.1:9900';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react(), tailwindcss()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  server: {
    port: 5173,
    proxy: {
      '/api': { target, ws: true, changeOrigin: false },
      '/flexy': { target, ws: true, changeOrigin: false },
      '/openapi.json': { target },
    },
  },
});
