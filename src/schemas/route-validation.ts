import type Joi from 'joi';


/**
 * A route's validation of one part of the request by its joi schema alone. Given the schema itself, hapi passes it the
 * request's other parts as joi's context on every call, and joi merges any options given with a call into the schema's
 * preferences (a few µs a request); no schema here reads the context. Rejects with joi's ValidationError, which the
 * route's failAction turns into the 422; what the schema returns (defaults filled in, unknown fields dropped) is what
 * the route sees.
 */
export function validatedBy<T>(schema: Joi.Schema<T>): (value: string | object | Buffer) => Promise<T> {

    return (value) => {

        const { value: validated, error } = schema.validate(value);
        return error ? Promise.reject(error) : Promise.resolve(validated);
    };
}
