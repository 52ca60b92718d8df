import { runMapperCli } from '../mappers/lib/cli.ts';
import { modbusDriver } from '../mappers/modbus/driver.ts';

await runMapperCli(modbusDriver, process.argv.slice(2));
