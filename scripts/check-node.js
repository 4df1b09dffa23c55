// Run first by every npm entry point (`npm start`, `npm test`, `npm run traffic`,
// `npm run bench`, a service started alone): on a Node.js older than the project
// needs, it stops the command at once with one line saying what to do, instead of
// letting a dependency crash later with an obscure error. Written in the oldest
// JavaScript on purpose (no imports, no modern syntax), so that the old Node it
// refuses can still run it.
var REQUIRED_MAJOR = 24;

var found = process.versions.node;
var major = Number(found.split('.')[0]);

if (major < REQUIRED_MAJOR) {
  process.stderr.write(
    'Dice Roller needs Node.js ' +
      REQUIRED_MAJOR +
      ' or later, but this is Node.js ' +
      found +
      ' (' +
      process.execPath +
      '). Get it with `npm install --prefix ~/node24 node@24` and put ~/node24/node_modules/.bin first in PATH (README, Quick start).\n',
  );
  process.exitCode = 1;
}
