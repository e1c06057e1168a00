const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 };


/** "90", "15s", "30m", "1h", "7d", "500ms" as seconds; null when it is none of these. */
export function parseDuration(text: string): number | null {

    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
    if (!match) {
        return null;
    }

    const seconds = Number(match[1]) * units[match[2] ?? 's'];
    return seconds > 0 ? seconds : null;
}
