/**
 * What PostgreSQL's text keeps exactly as sent. It cannot hold U+0000, and a lone surrogate has no UTF-8 form: the
 * driver would store U+FFFD in its place, silently changing the text (and making two different strings equal).
 */
const internals = {
    nulRx: /\u0000/,
    loneSurrogateRx: /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
};


/** Why the database could not store this text as sent, or null when it can. */
export function unstorableText(value: string): 'nul' | 'surrogate' | null {

    if (internals.nulRx.test(value)) {
        return 'nul';
    }

    return internals.loneSurrogateRx.test(value) ? 'surrogate' : null;
}


/** Characters as people and the database (char_length) count them: code points, so a surrogate pair is one. */
export function charCount(value: string): number {

    let count = value.length;
    for (let i = 0; i < value.length; ++i) {
        const unit = value.charCodeAt(i);
        if (unit >= 0xdc00 && unit <= 0xdfff) {
            --count;
        }
    }

    return count;
}
