// The demo "build step" for `npm start`: logs into PostgreSQL with the credentials jitgate put in
// its environment. It never prints them.
import pg from 'pg';

const client = new pg.Client({ database: 'postgres' }); // PGHOST, PGPORT, PGUSER, PGPASSWORD from the environment
await client.connect();
const { rows } = await client.query('SELECT current_setting($1) AS version', ['server_version']);
console.log(`demo step: logged into PostgreSQL ${rows[0].version} with just-in-time credentials`);
await client.end();
