import { useState } from 'react';
import { FlatList, Text } from 'react-native';

import { describeError } from '../api/errors';
import type { Lead, LeadStatus, Page } from '../api/types';
import { LeadCard } from '../components/LeadCard';
import { Empty, ErrorState, Loading } from '../components/StateView';
import { useResource } from '../hooks/useResource';
import { useServices } from '../servicesContext';
import { colors, common } from '../theme';

export function LeadsScreen() {
  const { api } = useServices();
  const [resource, reload, replace] = useResource(() => api.listLeads());
  const [busyId, setBusyId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  if (resource.status === 'loading') return <Loading label="Loading leads…" />;
  if (resource.status === 'error') return <ErrorState message={resource.message} onRetry={reload} />;
  const page: Page<Lead> = resource.data;
  if (page.items.length === 0) return <Empty message="No leads yet. They appear after calls." />;

  const changeStatus = async (lead: Lead, status: LeadStatus) => {
    setBusyId(lead.id);
    setError(null);
    try {
      const updated = await api.updateLead(lead.id, { status });
      replace({ ...page, items: page.items.map((l) => (l.id === updated.id ? updated : l)) });
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusyId(null);
    }
  };

  return (
    <FlatList
      style={common.screen}
      data={page.items}
      keyExtractor={(lead) => lead.id}
      ListHeaderComponent={
        error ? (
          <Text style={{ color: colors.danger, margin: 12 }} accessibilityRole="alert">
            {error}
          </Text>
        ) : null
      }
      renderItem={({ item }) => (
        <LeadCard
          lead={item}
          busy={busyId === item.id}
          onStatus={(status) => void changeStatus(item, status)}
        />
      )}
    />
  );
}
