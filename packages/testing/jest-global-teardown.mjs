// See jest-global-setup.mjs for why this is plain ESM loading TypeScript through tsx.
import { tsImport } from 'tsx/esm/api';

const { default: globalTeardown } = await tsImport('./src/jest-global-teardown.ts', import.meta.url);
export default globalTeardown;
