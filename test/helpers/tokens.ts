import Crypto from 'node:crypto';


const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');


export const nowSec = () => Math.floor(Date.now() / 1000);


/** Signs exactly the header and payload given (HMAC-SHA256 over header.payload), for tokens the library would not make. */
export function signHs256(header: object, payload: object, secret: string): string {

    const body = `${b64(header)}.${b64(payload)}`;
    return `${body}.${Crypto.createHmac('sha256', secret).update(body).digest('base64url')}`;
}


/** An unsigned token (`alg: none`). */
export function unsigned(payload: object): string {

    return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
}
