import Crypto from 'node:crypto';
import Path from 'node:path';


/** Where the page's files come from: the swagger-ui-dist package, served as installed. */
export const swaggerUiDir = Path.dirname(require.resolve('swagger-ui-dist/package.json'));


/** Where the page and its files live; the asset route serves `${docsPath}/{file}`. */
export const docsPath = '/docs';


/** The contract the page renders, exactly as served by GET /openapi.yaml. */
export const contractUrl = '/openapi.yaml';


/**
 * The page runs only its own scripts and styles and talks only to this origin: the contract and the "Try it out"
 * calls. Swagger UI draws its icons as data: URIs, the one allowance. Only the docs page sends it; the API's JSON
 * needs none. npm run check:docs fails on anything it refuses.
 */
export const contentSecurityPolicy = [
    'default-src \'none\'',
    'script-src \'self\'',
    'style-src \'self\'',
    'img-src \'self\' data:',
    'connect-src \'self\'',
    'base-uri \'none\'',
    'form-action \'self\'',
    'frame-ancestors \'none\''
].join('; ');


export interface GeneratedAsset {
    type: string;
    body: string;
    etag: string;
}


const internals = {
    generated(type: string, body: string): GeneratedAsset {

        return { type, body, etag: Crypto.createHash('sha1').update(body).digest('hex') };
    }
};


/**
 * Starts Swagger UI on the contract. A file of its own because the policy above allows no inline script.
 * No validator badge (it would send the contract to an outside service), and tokens typed into "Authorize" last
 * only as long as the page.
 */
export const initializer = internals.generated('text/javascript; charset=utf-8', `'use strict';

window.addEventListener('load', function () {

    window.ui = SwaggerUIBundle({
        url: ${JSON.stringify(contractUrl)},
        dom_id: '#swagger-ui',
        deepLinking: true,
        displayRequestDuration: true,
        persistAuthorization: false,
        validatorUrl: null
    });
});
`);


/** The files the page loads from swagger-ui-dist, by the name it asks for; nothing else there is served. */
export const distFiles = new Map([
    'swagger-ui.css',
    'swagger-ui-bundle.js',
    'index.css',
    'favicon-32x32.png',
    'favicon-16x16.png'
].map((name) => [name, Path.join(swaggerUiDir, name)]));


export const initializerName = 'swagger-initializer.js';


export const page = `<!DOCTYPE html>
<html lang="en">
<head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>todo-api: API documentation</title>
    <link rel="stylesheet" href="${docsPath}/swagger-ui.css">
    <link rel="stylesheet" href="${docsPath}/index.css">
    <link rel="icon" type="image/png" href="${docsPath}/favicon-32x32.png" sizes="32x32">
    <link rel="icon" type="image/png" href="${docsPath}/favicon-16x16.png" sizes="16x16">
</head>
<body>
    <noscript>This page needs JavaScript. The contract itself is at <a href="${contractUrl}">${contractUrl}</a>.</noscript>
    <div id="swagger-ui"></div>
    <script src="${docsPath}/swagger-ui-bundle.js"></script>
    <script src="${docsPath}/${initializerName}"></script>
</body>
</html>
`;
