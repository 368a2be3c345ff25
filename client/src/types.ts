/** The API's shapes this client reads (see /openapi.json). */

export interface Account {
  id: string;
  display_name: string;
  bio: string | null;
  email: string;
  email_verified: boolean;
  created_at: string;
}

export interface PublicProfile {
  id: string;
  display_name: string;
  bio: string | null;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface MessagePreview {
  id: string;
  author_id: string | null;
  body: string | null;
  created_at: string;
}

export interface ThreadSummary {
  id: string;
  title: string;
  owner_id: string | null;
  last_activity_at: string;
  unread_count: number;
  last_message: MessagePreview | null;
}

export interface Participant {
  user_id: string;
  display_name: string;
  joined_at: string;
  is_owner: boolean;
}

export interface ThreadDetail {
  id: string;
  title: string;
  owner_id: string | null;
  created_at: string;
  last_activity_at: string;
  unread_count: number;
  participants: Participant[];
}

export interface Message {
  id: string;
  thread_id: string;
  author_id: string | null;
  body: string | null;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
}
