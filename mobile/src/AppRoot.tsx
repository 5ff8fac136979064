import { useEffect, useState } from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';
import { SafeAreaProvider, SafeAreaView } from 'react-native-safe-area-context';

import type { Session } from './api/types';
import { type Tab, TabBar } from './components/TabBar';
import { type PushProvider, isLeadNotification, registerForPush } from './push/pushRegistration';
import { EventsScreen } from './screens/EventsScreen';
import { LeadsScreen } from './screens/LeadsScreen';
import { LoginScreen } from './screens/LoginScreen';
import { RecordScreen } from './screens/RecordScreen';
import { SessionDetailScreen } from './screens/SessionDetailScreen';
import { SessionsScreen } from './screens/SessionsScreen';
import type { Services } from './services';
import { ServicesProvider, useServices } from './servicesContext';
import { colors, common } from './theme';

function MainScreen({ push }: { push: PushProvider | null }) {
  const { api } = useServices();
  const [tab, setTab] = useState<Tab>('record');
  const [openSession, setOpenSession] = useState<Session | null>(null);

  // Tapping a "lead ready" push opens the Leads tab.
  useEffect(
    () => push?.onOpened?.((data) => isLeadNotification(data) && setTab('leads')),
    [push],
  );

  let body = null;
  if (tab === 'sessions') {
    body = openSession ? (
      <SessionDetailScreen sessionId={openSession.id} onBack={() => setOpenSession(null)} />
    ) : (
      <SessionsScreen onOpen={setOpenSession} />
    );
  } else if (tab === 'leads') body = <LeadsScreen />;
  else if (tab === 'events') body = <EventsScreen />;

  return (
    <View style={common.screen}>
      <View style={styles.header}>
        <Text style={styles.brand}>AYKA</Text>
        <Pressable accessibilityRole="button" onPress={() => void api.logout()}>
          <Text style={styles.logout}>Log out</Text>
        </Pressable>
      </View>
      {/* The Record screen stays mounted: switching tabs must not stop a recording. */}
      <View style={tab === 'record' ? styles.fill : styles.hidden}>
        <RecordScreen />
      </View>
      {body ? <View style={styles.fill}>{body}</View> : null}
      <TabBar current={tab} onSelect={setTab} />
    </View>
  );
}

/**
 * The app around already-built services: log-in gate, tabs, push registration once signed in, and
 * the offline queue following the network.
 */
export function AppRoot({ services, push }: { services: Services; push: PushProvider | null }) {
  const [signedIn, setSignedIn] = useState(services.tokens.current !== null);

  useEffect(() => services.tokens.subscribe(setSignedIn), [services]);

  useEffect(() => {
    const { queue, connectivity } = services;
    void connectivity.isOnline().then((online) => queue.setOnline(online));
    return connectivity.subscribe((online) => queue.setOnline(online));
  }, [services]);

  useEffect(() => {
    if (signedIn && push) void registerForPush(services.api, push);
  }, [signedIn, push, services]);

  return (
    <SafeAreaProvider>
      <ServicesProvider services={services}>
        <SafeAreaView style={common.screen}>{signedIn ? <MainScreen push={push} /> : <LoginScreen />}</SafeAreaView>
      </ServicesProvider>
    </SafeAreaProvider>
  );
}

const styles = StyleSheet.create({
  header: {
    flexDirection: 'row',
    alignItems: 'center',
    justifyContent: 'space-between',
    paddingHorizontal: 12,
    paddingVertical: 8,
    borderBottomWidth: 1,
    borderColor: colors.border,
    backgroundColor: colors.card,
  },
  fill: { flex: 1 },
  hidden: { display: 'none' },
  brand: { fontSize: 18, fontWeight: '800', color: colors.text },
  logout: { color: colors.accent, fontWeight: '600' },
});
