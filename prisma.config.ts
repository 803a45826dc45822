import { defineConfig } from 'prisma/config'

// Only `prisma generate` is used through the CLI: migrations are created and applied by
// our own scripts over driver adapters (see prisma/README.md), because the CLI's native
// schema engine cannot be downloaded on every machine that builds this project.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
})
