import { defineConfig } from "@playwright/test";

// The built UI (ui/dist) in Debian's Chromium, with the shell replaced by a test double
// (e2e/mock-ipc.js). No browser is downloaded: Chromium comes from apt.
export default defineConfig({
  testDir: "e2e",
  testMatch: [/.*\.spec\.ts/, /.*\.bench\.ts/],
  timeout: 30_000,
  retries: 0,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL: "http://127.0.0.1:4173",
    viewport: { width: 1440, height: 900 },
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"],
    },
  },
  webServer: {
    command: "npx vite preview --port 4173 --strictPort --host 127.0.0.1",
    url: "http://127.0.0.1:4173",
    reuseExistingServer: false,
    timeout: 30_000,
  },
});
