import { FlatList, Text, View } from 'react-native';

import { Empty, ErrorState, Loading } from '../components/StateView';
import { formatDateTime } from '../format';
import { useResource } from '../hooks/useResource';
import { useServices } from '../servicesContext';
import { common } from '../theme';

export function EventsScreen() {
  const { api } = useServices();
  const [resource, reload] = useResource(() => api.listEvents());
  if (resource.status === 'loading') return <Loading label="Loading events…" />;
  if (resource.status === 'error') return <ErrorState message={resource.message} onRetry={reload} />;
  if (resource.data.items.length === 0) return <Empty message="No events found in your calls yet." />;
  return (
    <FlatList
      style={common.screen}
      data={resource.data.items}
      keyExtractor={(event) => event.id}
      renderItem={({ item }) => (
        <View style={common.card} testID={`event-${item.id}`}>
          <Text style={common.title}>{item.name}</Text>
          <Text style={common.muted}>
            {item.starts_at ? formatDateTime(item.starts_at) : 'Time not set'}
            {item.timezone ? ` (${item.timezone})` : ''}
            {item.location ? ` · ${item.location}` : ''}
          </Text>
        </View>
      )}
    />
  );
}
