// Editing for staff (card actions, If-Match, 412 dialog): to be built.
export function initEditing() {}
