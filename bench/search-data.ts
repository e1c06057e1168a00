// The data of npm run bench:search: one user with many tasks of long descriptions, the texts made of words so that
// trigrams behave as on prose (random hex would hold every trigram in every task), and other users beside.
import type { Database } from '../src/data/database';


export interface SearchDataOptions {
    /** The heavy user's tasks. */
    tasks: number;
    /** Characters in each of their descriptions. */
    descriptionLength: number;
    otherUsers: number;
    otherTasks: number;
}


/** The words searched for, and how many of the heavy user's tasks hold each. */
export const searchWords = {
    // In every task's description.
    everywhere: 'lorem',
    // In 2 % of the tasks (j is in no other word).
    sparse: 'juniper',
    // In 5 tasks (q is in no other word).
    rare: 'quartz',
    // In no task: x is in no word, and no task holds 'qz'.
    none: 'xylophone',
    shortNone: 'qz',
    shortEverywhere: 'e'
};


export const heavyUser = 'search-heavy-user';


const internals = {
    consonants: 'bcdfghklmnprstvw',
    vowels: 'aeiou',
    sparseEvery: 50,
    rareAt: [137, 2_411, 5_003, 7_777, 9_901],
    batch: 250,

    /** mulberry32: the same data on every run. */
    random(seed: number): () => number {

        let state = seed;
        return () => {

            state = (state + 0x6D2B79F5) | 0;
            let t = Math.imul(state ^ (state >>> 15), 1 | state);
            t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
            return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
        };
    },

    vocabulary(random: () => number, size: number): string[] {

        const words = new Set<string>();
        while (words.size < size) {
            let word = '';
            for (let syllables = 2 + Math.floor(random() * 3); syllables > 0; --syllables) {
                word += internals.consonants[Math.floor(random() * internals.consonants.length)] + internals.vowels[Math.floor(random() * internals.vowels.length)];
            }

            words.add(word);
        }

        return [...words];
    },

    /** Words drawn with a skew (a few frequent, many rare), up to length characters, with the given words among them. */
    text(random: () => number, words: string[], length: number, include: string[]): string {

        const parts: string[] = [];
        let size = 0;
        while (size < length) {
            const word = words[Math.floor(words.length * random() ** 3)];
            parts.push(word);
            size += word.length + 1;
        }

        // Early enough that the cut at length keeps them.
        for (const word of include) {
            parts.splice(Math.floor(random() * Math.min(parts.length, length / 16)), 0, word);
        }

        return parts.join(' ').slice(0, length);
    }
};


export async function buildSearchData(db: Database, options: SearchDataOptions): Promise<void> {

    const random = internals.random(20261207);
    const words = internals.vocabulary(random, 4000);
    const start = Date.parse('2026-01-01T00:00:00Z');
    const priorities = ['low', 'medium', 'high'];

    const heavy = (n: number) => {

        const include = [searchWords.everywhere];
        if (n % internals.sparseEvery === 0) {
            include.push(searchWords.sparse);
        }

        if (internals.rareAt.includes(n)) {
            include.push(searchWords.rare);
        }

        const created = new Date(start + n * 60_000).toISOString();
        return {
            user_id: heavyUser,
            title: `Task ${n} ${words[Math.floor(random() * words.length)]}`,
            description: internals.text(random, words, options.descriptionLength, include),
            completed: n % 4 === 0,
            priority: priorities[n % 3],
            due_date: n % 5 ? new Date(start + n * 3_600_000).toISOString() : null,
            created_at: created,
            updated_at: created
        };
    };

    for (let n = 0; n < options.tasks; n += internals.batch) {
        const rows = [];
        for (let i = n; i < Math.min(options.tasks, n + internals.batch); ++i) {
            rows.push(heavy(i));
        }

        await db.knex('tasks').insert(rows);
    }

    const others = [];
    for (let u = 0; u < options.otherUsers; ++u) {
        for (let n = 0; n < options.otherTasks; ++n) {
            const created = new Date(start + n * 60_000).toISOString();
            others.push({
                user_id: `search-user-${u}`,
                title: `Task ${n}`,
                description: internals.text(random, words, 400, n % 10 ? [] : [searchWords.rare, searchWords.everywhere]),
                priority: priorities[n % 3],
                created_at: created,
                updated_at: created
            });
        }
    }

    for (let n = 0; n < others.length; n += internals.batch) {
        await db.knex('tasks').insert(others.slice(n, n + internals.batch));
    }

    await db.knex.raw('analyze tasks');
}
