// Text placed in HTML: every character that could open markup or end an attribute is an entity.
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
