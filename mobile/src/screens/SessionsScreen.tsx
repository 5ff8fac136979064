import { FlatList, Pressable, Text, View } from 'react-native';

import type { Session } from '../api/types';
import { Empty, ErrorState, Loading } from '../components/StateView';
import { formatDateTime, formatDuration } from '../format';
import { useResource } from '../hooks/useResource';
import { useServices } from '../servicesContext';
import { common } from '../theme';

export function SessionsScreen({ onOpen }: { onOpen: (session: Session) => void }) {
  const { api } = useServices();
  const [resource, reload] = useResource(() => api.listSessions());
  if (resource.status === 'loading') return <Loading label="Loading sessions…" />;
  if (resource.status === 'error') return <ErrorState message={resource.message} onRetry={reload} />;
  if (resource.data.items.length === 0) {
    return <Empty message="No sessions yet. Record one from the Record tab." />;
  }
  return (
    <FlatList
      style={common.screen}
      data={resource.data.items}
      keyExtractor={(session) => session.id}
      onRefresh={reload}
      refreshing={false}
      renderItem={({ item }) => (
        <Pressable accessibilityRole="button" onPress={() => onOpen(item)} style={common.card}>
          <Text style={common.title}>{item.title || 'Untitled session'}</Text>
          <Text style={common.muted}>
            {formatDateTime(item.created_at)} · {formatDuration(item.duration_s)} · {item.status}
          </Text>
          <View>
            <Text style={common.muted}>
              {item.speaker_count} speakers · {item.segment_count} segments
            </Text>
          </View>
        </Pressable>
      )}
    />
  );
}
