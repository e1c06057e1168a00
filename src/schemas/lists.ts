import Joi from 'joi';

import type { components } from '../generated/openapi';
import { idOrNone, maxChars, Text, validationPreferences } from './tasks';


type Schemas = components['schemas'];


const name = Text.string().trim().min(1).custom(maxChars(100));


export const listCreateSchema = Joi.object<Schemas['ListCreate'], true>({
    name: name.required()
})
    .required()
    .prefs(validationPreferences)
    .label('body');


export const listPatchSchema = Joi.object<Schemas['ListPatch'], true>({
    name
})
    .required()
    .prefs(validationPreferences)
    .label('body');


// No body at all puts the list first.
export const listMoveSchema = Joi.object<Schemas['ListMove'], true>({
    after: idOrNone
})
    .allow(null)
    .prefs(validationPreferences)
    .label('body');


// Response schemas, for the docs and the tests' cross-check with openapi.yaml.

const listKeys = {
    id: Joi.string().guid(),
    name: Joi.string(),
    position: Joi.string(),
    created_at: Joi.string().isoDate(),
    updated_at: Joi.string().isoDate()
};


export const listSchema = Joi.object<Schemas['List'], true>(listKeys).label('List');


export const listEntriesSchema = Joi.array().items(Joi.object({ ...listKeys, open_count: Joi.number().integer() }).label('ListEntry')).label('ListEntries');
