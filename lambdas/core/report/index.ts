export { escapeHtml, Html, html } from './html';
export * from './report';
