// The throw-away PostgreSQL belongs to the Vault-compatible tool (its CLI and fixture start one);
// tests that need only the database import it from here.
export { startPostgres, type TestPostgres } from '../../tools/vault-compat/src/postgres.js';
