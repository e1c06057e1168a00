import type { Knex } from 'knex';


// Fixed ids, so running the seeds again finds these rows instead of adding copies.
const users = [
    { id: 'demo-alice', email: 'alice@example.com', name: 'Alice Example' },
    { id: 'demo-bob', email: 'bob@example.com', name: 'Bob Example' }
];

const tasks = [
    { id: '0b1e6a8e-4f6c-4c41-9a57-2f3b7f1d0a01', user_id: 'demo-alice', title: 'Buy groceries', description: 'Milk, eggs, bread', priority: 'medium', completed: false, due_date: '2026-12-01T17:00:00Z' },
    { id: '0b1e6a8e-4f6c-4c41-9a57-2f3b7f1d0a02', user_id: 'demo-alice', title: 'Book dentist appointment', description: null, priority: 'high', completed: false, due_date: null },
    { id: '0b1e6a8e-4f6c-4c41-9a57-2f3b7f1d0a03', user_id: 'demo-alice', title: 'Read chapter 3', description: null, priority: 'low', completed: true, due_date: null },
    { id: '0b1e6a8e-4f6c-4c41-9a57-2f3b7f1d0a04', user_id: 'demo-alice', title: 'Renew passport', description: 'Photos first', priority: 'high', completed: false, due_date: '2027-01-15T09:00:00Z' },
    { id: '0b1e6a8e-4f6c-4c41-9a57-2f3b7f1d0b01', user_id: 'demo-bob', title: 'Fix the bike', description: 'Rear brake', priority: 'medium', completed: false, due_date: null },
    { id: '0b1e6a8e-4f6c-4c41-9a57-2f3b7f1d0b02', user_id: 'demo-bob', title: 'Call mum', description: null, priority: 'high', completed: true, due_date: null },
    { id: '0b1e6a8e-4f6c-4c41-9a57-2f3b7f1d0b03', user_id: 'demo-bob', title: 'Plan the trip', description: 'Trains or car?', priority: 'low', completed: false, due_date: '2027-03-01T00:00:00Z' }
];


export async function seed(knex: Knex): Promise<void> {

    await knex('users').insert(users).onConflict('id').ignore();
    await knex('tasks').insert(tasks).onConflict(['user_id', 'id']).ignore();
}
