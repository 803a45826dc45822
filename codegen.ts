import type { CodegenConfig } from '@graphql-codegen/cli'

// Typed operations for the inbox: the client preset reads the committed schema.graphql and the
// operations written in client/src, and writes client/src/gql. Run: npm run generate
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['client/src/**/*.{ts,tsx}', '!client/src/gql/**/*'],
  ignoreNoDocuments: true,
  generates: {
    'client/src/gql/': {
      preset: 'client',
      // unmasking is a plain function, not a hook: name it so
      presetConfig: { fragmentMasking: { unmaskFunctionName: 'getFragmentData' } },
      config: { scalars: { DateTime: 'string', JSON: 'unknown' }, enumsAsTypes: true, useTypeImports: true },
    },
  },
}

export default config
