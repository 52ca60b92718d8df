import { runMapperCli } from '../mappers/lib/cli.ts';
import { virtualDriver } from '../mappers/virtual/driver.ts';

await runMapperCli(virtualDriver, process.argv.slice(2));
