// Generates TypeScript (ts-proto, grpc-js services) from proto/*.proto into src/gen/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';

const protos = readdirSync('proto').filter((f) => f.endsWith('.proto')).map((f) => `proto/${f}`);
mkdirSync('src/gen', { recursive: true });
if (protos.length > 0) {
  execFileSync('protoc', [
    '--plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto',
    '--ts_proto_out=src/gen',
    '--ts_proto_opt=outputServices=grpc-js,esModuleInterop=true,importSuffix=.js,env=node,forceLong=number,useExactTypes=false,useOptionals=messages',
    '-Iproto',
    ...protos,
  ], { stdio: 'inherit' });
}
