/** Configuration: the `kontor.yaml` schema, its loader with line-precise errors, and secrets. */
export { configSchema, type KontorConfig, type EntityConfig, type BankAccountConfig } from './schema.ts';
export { ConfigError, loadConfig, parseConfig, loadSecrets, DEMO_CONFIG, type LoadedConfig } from './load.ts';
