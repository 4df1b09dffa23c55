import { freePort } from './ports';

/** A loopback URL where nothing listens: connections are refused at once. */
export async function unreachableUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}
