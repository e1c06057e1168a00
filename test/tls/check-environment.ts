/**
 * npm run test:tls runs this first: without the TLS server's variables, one line says so and the run fails, rather
 * than every test failing on its own (or none running).
 */
import { missingTlsEnvironment } from '../helpers/tls';


const missing = missingTlsEnvironment();
if (missing) {
    console.error(`test:tls: ${missing}`);
    process.exitCode = 1;
}
