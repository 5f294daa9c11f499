// Jest loads globalSetup outside its module registry (no moduleNameMapper, no ESM transform), so this
// plain ESM entry loads the TypeScript implementation through tsx.
import { tsImport } from 'tsx/esm/api';

const { default: globalSetup } = await tsImport('./src/jest-global-setup.ts', import.meta.url);
export default globalSetup;
