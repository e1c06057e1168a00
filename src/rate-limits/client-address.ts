import Net from 'node:net';

import type { Request } from '@hapi/hapi';


const internals = {
    // An IPv6 client holds a whole /64 (one network, 2^64 addresses): its first four groups are its address here.
    ipv6Groups: 4,

    /** The address as a budget's key: IPv4 as written, IPv4-mapped IPv6 as IPv4, other IPv6 as its /64. */
    key(address: string): string {

        const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
        if (mapped) {
            return mapped[1];
        }

        if (Net.isIPv6(address)) {
            return `${internals.expand(address).slice(0, internals.ipv6Groups).join(':')}::/64`;
        }

        return address;
    },

    expand(address: string): string[] {

        const [head, tail = ''] = address.split('::');
        const left = head ? head.split(':') : [];
        const right = tail ? tail.split(':') : [];
        const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
        return groups.map((group) => group.toLowerCase().replace(/^0+(?=.)/, ''));
    }
};


/**
 * The address of the client a request comes from, for its budgets. Behind trustedProxies proxies, each of which
 * appends the address it was reached from to X-Forwarded-For, that is the entry trustedProxies from the right
 * (the connection's own address counting as the last): everything left of it the client wrote itself. With no
 * trusted proxy the header is ignored, so a forged one changes nothing.
 */
export function clientAddress(request: Request, trustedProxies: number): string {

    const remote = request.info.remoteAddress;
    if (trustedProxies === 0) {
        return internals.key(remote);
    }

    const forwarded = request.headers['x-forwarded-for'];
    const hops = typeof forwarded === 'string' ? forwarded.split(',').map((hop) => hop.trim()).filter(Boolean) : [];
    const chain = [...hops, remote];
    const client = chain[Math.max(0, chain.length - 1 - trustedProxies)];
    return internals.key(Net.isIP(client) ? client : remote);
}
