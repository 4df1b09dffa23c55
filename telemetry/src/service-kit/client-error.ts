import type { Duplex } from 'node:stream';
import { type Problem, ProblemType } from './problem';

interface ClientErrorShape {
  status: number;
  reason: string;
  detail: string;
}

function describeClientError(code: string | undefined): ClientErrorShape {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        reason: 'Request Header Fields Too Large',
        detail: 'The request line or headers are too large',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'Request Timeout', detail: 'The request was not received in time' };
    default:
      return { status: 400, reason: 'Bad Request', detail: 'The request is not valid HTTP' };
  }
}

/**
 * Answers a request Node's HTTP parser rejected before Express saw it (a 20 KB URL,
 * a malformed request line) with the same problem+json every other error gets,
 * instead of Node's bare status line, then closes the connection.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  // As Node's own handler does: a response already under way on this connection
  // (pipelining) must not get a second status line in the middle of its body.
  const responseUnderWay = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (!socket.writable || responseUnderWay === true || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const { status, reason, detail } = describeClientError(error.code);
  const problem: Problem = { type: ProblemType.badRequest, title: reason, status, detail };
  const body = JSON.stringify(problem);
  socket.end(
    [
      `HTTP/1.1 ${status} ${reason}`,
      'Content-Type: application/problem+json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'X-Content-Type-Options: nosniff',
      "Content-Security-Policy: default-src 'none'",
      'Connection: close',
      '',
      body,
    ].join('\r\n'),
  );
}
